{#-
  dbt names every node's schema with generate_schema_name, which dispatches to default__generate_schema_name
  (dbt-adapters: global_project/macros/get_custom_name/get_custom_schema.sql). The same <target.schema>_<custom schema>
  as dbt's default, but every model, seed, snapshot and function must name a domain from team.yaml: `alice` builds
  `alice_sales`, CI `ci_<run>_sales`, prod `prod_sales`, and nothing builds into a bare `alice` or `prod`.
-#}
{% macro default__generate_schema_name(custom_schema_name, node) -%}
  {%- set domains = warehouse_access.roster().domains -%}
  {%- set domain = (custom_schema_name or '') | trim -%}
  {%- if domain in domains -%}
    {{ target.schema }}_{{ domain }}
  {%- elif node is not none and node.resource_type in ['model', 'seed', 'snapshot', 'function'] -%}
    {{ exceptions.raise_compiler_error(node.resource_type ~ ' ' ~ node.name ~ ' (' ~ node.original_file_path ~ ') '
       ~ ('names no domain' if domain == '' else 'has schema ' ~ domain ~ ', which is no domain in team.yaml')
       ~ ': set +schema to one of ' ~ domains | join(', ') ~ ' (in dbt_project.yml or its config)'
       ~ ('; snapshots: use schema, not target_schema (dbt takes target_schema as it is)' if node.resource_type == 'snapshot' else '')) }}
  {%- elif domain == '' -%}
    {{ target.schema }}
  {%- else -%}
    {{ target.schema }}_{{ domain }}
  {%- endif -%}
{%- endmacro %}
