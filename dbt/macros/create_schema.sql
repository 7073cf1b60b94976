{#-
  dbt creates each schema a run needs that list_schemas did not find, through create_schema, which dispatches to
  <adapter>__create_schema (dbt-adapters: global_project/macros/adapters/schema.sql). dbt-postgres's
  postgres__create_schema runs `create schema if not exists`, which PostgreSQL refuses without CREATE on the database,
  and no developer or CI login has it (CI would otherwise create, or rename into, a prod_ schema). So: CI schemas come
  from the warehouse's own door, and every other missing schema stops the run with the roster change that makes it.
-#}
{% macro postgres__create_schema(relation) -%}
  {{ warehouse_access.create_ci_schema_or_stop(relation) }}
{%- endmacro %}

{% macro snowflake__create_schema(relation) -%}
  {{ warehouse_access.create_ci_schema_or_stop(relation) }}
{%- endmacro %}

{% macro create_ci_schema_or_stop(relation) -%}
  {%- set schema = relation.schema | lower -%}
  {%- set prefix = target.schema | lower -%}
  {%- set run = prefix[3:] -%}
  {%- set domain = schema[prefix | length + 1:] -%}
  {%- if prefix.startswith('ci_') and schema.startswith(prefix ~ '_') and modules.re.match('^[a-z0-9]+$', run) and domain in warehouse_access.roster().ci_domains -%}
    {{ warehouse_access.create_ci_schema(run, domain) }}
  {%- else -%}
    {{ exceptions.raise_compiler_error(warehouse_access.missing_schema_message(schema, prefix)) }}
  {%- endif -%}
{%- endmacro %}

{# One call per schema; the warehouse checks run and domain again and stamps the creation time cleanup-ci reads. #}
{% macro create_ci_schema(run, domain) -%}
  {{ adapter.dispatch('create_ci_schema', 'warehouse_access')(run, domain) }}
{%- endmacro %}

{% macro default__create_ci_schema(run, domain) -%}
  {{ exceptions.raise_compiler_error('warehouse_access creates CI schemas on postgres and snowflake only, not on ' ~ adapter.type()) }}
{%- endmacro %}

{% macro postgres__create_ci_schema(run, domain) -%}
  {%- call statement('create_ci_schema') -%}
    select {{ warehouse_access.roster().postgres_ci_function }}('{{ run }}', '{{ domain }}')
  {%- endcall -%}
{%- endmacro %}

{% macro snowflake__create_ci_schema(run, domain) -%}
  {%- call statement('create_ci_schema') -%}
    call {{ warehouse_access.roster().snowflake_ci_procedure }}('{{ run }}', '{{ domain }}')
  {%- endcall -%}
{%- endmacro %}

{% macro missing_schema_message(schema, prefix) -%}
  {%- set roster = warehouse_access.roster() -%}
  {%- set domain = schema[prefix | length + 1:] -%}
  {%- set tests_hint = '; tests that store failures need +schema on data_tests, as models do' if schema == prefix ~ '_dbt_test__audit' else '' -%}
  {%- if prefix in roster.developers and domain in roster.domains and domain not in roster.developers[prefix] -%}
    {{ return(prefix ~ ' has no schema for domain ' ~ domain ~ ': add ' ~ domain ~ ' to ' ~ prefix ~ "'s domains in team.yaml, or exclude it (dbt build --selector " ~ prefix ~ ')') }}
  {%- elif prefix.startswith('ci_') and domain in roster.domains and domain not in roster.ci_domains -%}
    {{ return('CI builds no ' ~ schema ~ ': ' ~ domain ~ ' is restricted and CI is none of its readers in team.yaml, so it cannot read prod_' ~ domain ~ '; exclude it in CI (dbt build --selector ci)') }}
  {%- elif domain in roster.domains -%}
    {{ return('schema ' ~ schema ~ ' does not exist yet: it is in team.yaml, so run `pulumi up` (or wait for the deploy) and try again') }}
  {%- else -%}
    {{ return('schema ' ~ schema ~ ' is not one warehouse-access provisions: build only into <target schema>_<domain>, with a domain from team.yaml (' ~ roster.domains | join(', ') ~ ')' ~ tests_hint) }}
  {%- endif -%}
{%- endmacro %}
