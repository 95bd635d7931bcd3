"""The harmony chat template of the built-in presets' tokenizer (Jinja, rendered by `apply_chat_template`).

It writes conversations in gpt-oss's harmony format:

    <|start|>system<|message|>...Reasoning: low...<|end|><|start|>developer<|message|># Instructions...<|end|>
    <|start|>user<|message|>...<|end|><|start|>assistant

Keyword arguments of `apply_chat_template` it reads, besides `messages`, `tools` and `add_generation_prompt`:
`reasoning_effort` ("low", "medium" or "high"; default "medium"), `model_identity` (the system message's first
line), `knowledge_cutoff` (default "2024-06") and `current_date` (a "Current date:" line only when given, so the
same messages always render the same prompt).

Messages: a first "system" or "developer" message becomes the developer message's instructions; "user" messages
as written; "assistant" messages with `content` in the final channel and, only for the last message of a
conversation rendered without a generation prompt (training), `thinking` in the analysis channel before it; an
assistant message with `tool_calls` writes its `thinking` (or `content`) in the analysis channel unless a later
assistant message answers, then each call as `<|start|>assistant to=functions.NAME<|channel|>commentary
json<|message|>ARGUMENTS<|call|>`; a "tool" message is the result of the latest call (or of the function its
`name` gives). A generation prompt ends the text with `<|start|>assistant`.
"""

HARMONY_CHAT_TEMPLATE = r"""
{%- macro typescript_type(spec) -%}
    {%- if spec.type == "string" and spec.enum -%}
        {{- '"' + spec.enum | join('" | "') + '"' -}}
    {%- elif spec.type == "string" -%}
        {{- "string" -}}
    {%- elif spec.type == "number" or spec.type == "integer" -%}
        {{- "number" -}}
    {%- elif spec.type == "boolean" -%}
        {{- "boolean" -}}
    {%- elif spec.type == "array" -%}
        {{- (typescript_type(spec["items"]) if spec["items"] else "any") + "[]" -}}
    {%- elif spec.type == "object" -%}
        {{- "object" -}}
    {%- else -%}
        {{- "any" -}}
    {%- endif -%}
    {%- if spec.nullable -%}
        {{- " | null" -}}
    {%- endif -%}
{%- endmacro -%}

{%- macro functions_namespace(tools) -%}
    {{- "## functions\n\nnamespace functions {\n\n" -}}
    {%- for tool in tools -%}
        {%- set function = tool.function if tool.function is defined else tool -%}
        {%- if function.description -%}
            {{- "// " + function.description + "\n" -}}
        {%- endif -%}
        {%- set parameters = function.parameters.properties if function.parameters else none -%}
        {%- if parameters -%}
            {{- "type " + function.name + " = (_: {\n" -}}
            {%- for name, spec in parameters.items() -%}
                {%- if spec.description -%}
                    {{- "// " + spec.description + "\n" -}}
                {%- endif -%}
                {{- name + ("" if name in (function.parameters.required or []) else "?") -}}
                {{- ": " + typescript_type(spec) + ",\n" -}}
            {%- endfor -%}
            {{- "}) => any;\n\n" -}}
        {%- else -%}
            {{- "type " + function.name + " = () => any;\n\n" -}}
        {%- endif -%}
    {%- endfor -%}
    {{- "} // namespace functions" -}}
{%- endmacro -%}

{%- macro as_text(value) -%}
    {{- value if value is string else value | tojson -}}
{%- endmacro -%}

{%- set effort = reasoning_effort if reasoning_effort is defined and reasoning_effort else "medium" -%}
{%- if effort not in ["low", "medium", "high"] -%}
    {{- raise_exception("reasoning_effort must be low, medium or high, not " + effort | string) -}}
{%- endif -%}

{{- "<|start|>system<|message|>" -}}
{{- (model_identity if model_identity is defined
     else "You are ChatGPT, a large language model trained by OpenAI.") + "\n" -}}
{{- "Knowledge cutoff: " + (knowledge_cutoff if knowledge_cutoff is defined else "2024-06") + "\n" -}}
{%- if current_date is defined and current_date -%}
    {{- "Current date: " + current_date + "\n" -}}
{%- endif -%}
{{- "\nReasoning: " + effort + "\n\n" -}}
{{- "# Valid channels: analysis, commentary, final. Channel must be included for every message." -}}
{%- if tools -%}
    {{- "\nCalls to these tools must go to the commentary channel: 'functions'." -}}
{%- endif -%}
{{- "<|end|>" -}}

{%- if messages and messages[0].role in ["system", "developer"] -%}
    {%- set instructions = messages[0].content -%}
    {%- set conversation = messages[1:] -%}
{%- else -%}
    {%- set instructions = "" -%}
    {%- set conversation = messages -%}
{%- endif -%}
{%- if instructions or tools -%}
    {{- "<|start|>developer<|message|>" -}}
    {%- if instructions -%}
        {{- "# Instructions\n\n" + instructions + "\n\n" -}}
    {%- endif -%}
    {%- if tools -%}
        {{- "# Tools\n\n" + functions_namespace(tools) -}}
    {%- endif -%}
    {{- "<|end|>" -}}
{%- endif -%}

{%- set latest_call = namespace(name=none) -%}
{%- for message in conversation -%}
    {%- if message.role == "user" -%}
        {{- "<|start|>user<|message|>" + message.content + "<|end|>" -}}
    {%- elif message.role == "assistant" and message.tool_calls -%}
        {%- set answered = namespace(later=false) -%}
        {%- for later in conversation[loop.index:] -%}
            {%- if later.role == "assistant" and not later.tool_calls -%}
                {%- set answered.later = true -%}
            {%- endif -%}
        {%- endfor -%}
        {%- set reasoning = message.thinking or message.content -%}
        {%- if reasoning and not answered.later -%}
            {{- "<|start|>assistant<|channel|>analysis<|message|>" + reasoning + "<|end|>" -}}
        {%- endif -%}
        {%- for call in message.tool_calls -%}
            {%- set function = call.function if call.function is defined else call -%}
            {{- "<|start|>assistant to=functions." + function.name + "<|channel|>commentary json<|message|>" -}}
            {{- as_text(function.arguments) + "<|call|>" -}}
            {%- set latest_call.name = function.name -%}
        {%- endfor -%}
    {%- elif message.role == "assistant" -%}
        {%- if loop.last and not add_generation_prompt -%}
            {%- if message.thinking -%}
                {{- "<|start|>assistant<|channel|>analysis<|message|>" + message.thinking + "<|end|>" -}}
            {%- endif -%}
            {{- "<|start|>assistant<|channel|>final<|message|>" + message.content + "<|return|>" -}}
        {%- else -%}
            {{- "<|start|>assistant<|channel|>final<|message|>" + message.content + "<|end|>" -}}
        {%- endif -%}
    {%- elif message.role == "tool" -%}
        {%- set name = message.name if message.name is defined and message.name else latest_call.name -%}
        {%- if name is none -%}
            {{- raise_exception("a tool message needs an earlier assistant message with tool_calls, or a name") -}}
        {%- endif -%}
        {{- "<|start|>functions." + name + " to=assistant<|channel|>commentary<|message|>" -}}
        {{- as_text(message.content) + "<|end|>" -}}
    {%- else -%}
        {{- raise_exception("message roles are user, assistant and tool after an optional first system or developer"
                            + " message, not " + message.role | string) -}}
    {%- endif -%}
{%- endfor -%}

{%- if add_generation_prompt -%}
    {{- "<|start|>assistant" -}}
{%- endif -%}
"""
