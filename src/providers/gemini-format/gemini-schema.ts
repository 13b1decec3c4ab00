/**
 * Converts a JSON Schema (as OpenAI clients send in tool parameters and json_schema response formats) to the
 * OpenAPI 3.0 subset Google's `Schema` object accepts. Google answers 400 to keywords outside that subset
 * (`additionalProperties`, `$schema`, `$ref`, ...), so anything not known to be accepted is dropped.
 */

/** Keywords Google's Schema accepts, copied through after their values were converted. */
const ACCEPTED_KEYWORDS = new Set([
  'type',
  'format',
  'title',
  'description',
  'nullable',
  'enum',
  'maxItems',
  'minItems',
  'properties',
  'required',
  'minProperties',
  'maxProperties',
  'minLength',
  'maxLength',
  'pattern',
  'example',
  'anyOf',
  'propertyOrdering',
  'default',
  'items',
  'minimum',
  'maximum',
]);

/** Google rejects any other `format` value for these types ("only 'enum' and 'date-time' are supported"). */
const ACCEPTED_FORMATS: Record<string, ReadonlySet<string>> = {
  string: new Set(['enum', 'date-time']),
  integer: new Set(['int32', 'int64']),
  number: new Set(['float', 'double']),
};

/** Deep enough for real schemas; stops self-referencing `$ref` chains from recursing forever. */
const MAX_DEPTH = 24;

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Returns Google's subset of a JSON Schema: local `$ref`s inlined, `oneOf` read as `anyOf`, `type` arrays with
 * `"null"` turned into `nullable`, `const` into a one-value enum, and unsupported keywords removed.
 */
export function toGeminiSchema(schema: Record<string, unknown>): Record<string, unknown> {
  const definitions = { ...asObject(schema.definitions), ...asObject(schema.$defs) };
  return convert(schema, definitions, 0);
}

function asObject(value: unknown): JsonObject {
  return isObject(value) ? value : {};
}

function resolveReference(reference: string, definitions: JsonObject): JsonObject | undefined {
  const match = /^#\/(?:\$defs|definitions)\/(.+)$/.exec(reference);
  if (!match?.[1]) return undefined;
  const target = definitions[decodeURIComponent(match[1])];
  return isObject(target) ? target : undefined;
}

function convert(input: JsonObject, definitions: JsonObject, depth: number): JsonObject {
  if (depth > MAX_DEPTH) return {};
  let schema = input;
  if (typeof schema.$ref === 'string') {
    const target = resolveReference(schema.$ref, definitions);
    // Sibling keywords (a description next to the $ref) win over the referenced definition's own.
    const { $ref: _reference, ...siblings } = schema;
    schema = target === undefined ? siblings : { ...target, ...siblings };
  }
  if (Array.isArray(schema.allOf) && schema.allOf.length === 1 && isObject(schema.allOf[0])) {
    const { allOf: _allOf, ...rest } = schema;
    schema = { ...schema.allOf[0], ...rest };
  }

  const result: JsonObject = {};
  for (const [keyword, value] of Object.entries(schema)) {
    if (keyword === 'oneOf' && !('anyOf' in schema)) {
      result.anyOf = convertList(value, definitions, depth);
      continue;
    }
    if (keyword === 'const') {
      if (typeof value === 'string' && !('enum' in schema)) result.enum = [value];
      continue;
    }
    if (!ACCEPTED_KEYWORDS.has(keyword)) continue;
    switch (keyword) {
      case 'properties':
        if (isObject(value)) {
          const properties: JsonObject = {};
          for (const [name, property] of Object.entries(value)) {
            properties[name] = isObject(property) ? convert(property, definitions, depth + 1) : {};
          }
          result.properties = properties;
        }
        break;
      case 'items':
        // Tuples (`items: [...]`) have no equivalent; the first element's schema is the closest.
        if (isObject(value)) result.items = convert(value, definitions, depth + 1);
        else if (Array.isArray(value) && isObject(value[0])) result.items = convert(value[0], definitions, depth + 1);
        break;
      case 'anyOf':
        result.anyOf = convertList(value, definitions, depth);
        break;
      case 'enum':
        // Google only accepts string enums.
        if (Array.isArray(value) && value.every((entry) => typeof entry === 'string')) result.enum = value;
        break;
      case 'type':
        Object.assign(result, convertType(value, schema));
        break;
      default:
        result[keyword] = value;
    }
  }

  if (typeof result.format === 'string') {
    const accepted = typeof result.type === 'string' ? ACCEPTED_FORMATS[result.type.toLowerCase()] : undefined;
    if (!accepted?.has(result.format)) delete result.format;
  }
  if (Array.isArray(result.required) && isObject(result.properties)) {
    const names = new Set(Object.keys(result.properties));
    result.required = result.required.filter((name) => typeof name === 'string' && names.has(name));
  }
  return result;
}

function convertList(value: unknown, definitions: JsonObject, depth: number): JsonObject[] {
  if (!Array.isArray(value)) return [];
  return value.filter(isObject).map((entry) => convert(entry, definitions, depth + 1));
}

/** `type: ["string", "null"]` becomes `type: "string", nullable: true`; several real types become anyOf. */
function convertType(value: unknown, schema: JsonObject): JsonObject {
  if (typeof value === 'string') return value === 'null' ? { nullable: true } : { type: value };
  if (!Array.isArray(value)) return {};
  const types = value.filter((entry): entry is string => typeof entry === 'string');
  const nullable = types.includes('null');
  const real = types.filter((entry) => entry !== 'null');
  const result: JsonObject = nullable ? { nullable: true } : {};
  if (real.length === 1) result.type = real[0];
  else if (real.length > 1 && !('anyOf' in schema)) result.anyOf = real.map((type) => ({ type }));
  return result;
}
