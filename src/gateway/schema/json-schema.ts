// JSON Schema (draft 2020-12, the dialect of OpenAPI 3.1) from the zod schemas, through zod's own z.toJSONSchema.
import { z } from 'zod';

export type JsonSchema = { [key: string]: unknown };

/**
 * What the document shows for a schema whose check zod cannot turn into JSON Schema (a custom check, a transform);
 * set next to the check, from the same constants, and held to it by test/api/schema-agreement.test.ts.
 */
const DOCUMENTED = new WeakMap<z.core.$ZodType, () => JsonSchema>();

export function documentedAs<T extends z.ZodType>(schema: T, json: () => JsonSchema): T {
  DOCUMENTED.set(schema, json);
  return schema;
}

/** The request-side JSON Schema of `schema`, inlined (no $ref), without the $schema line. */
export function jsonSchemaOf(schema: z.ZodType): JsonSchema {
  const json = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io: 'input',
    reused: 'inline',
    // A custom check or transform becomes {} here, then its documentedAs text replaces it (override).
    unrepresentable: 'any',
    override: (ctx) => {
      const documented = DOCUMENTED.get(ctx.zodSchema);
      if (!documented) return;
      const target = ctx.jsonSchema as JsonSchema;
      for (const key of Object.keys(target)) delete target[key];
      Object.assign(target, documented());
    },
  }) as JsonSchema;
  delete json.$schema;
  return json;
}
