// Compares the SDK with openapi.yaml. Two checks, each returning a list of
// problems (empty when the SDK covers the spec):
//
// - operationProblems: every operation of the spec has an entry in the SDK's
//   operation table with the same method, path and credential, and names an SDK
//   method that exists (or says why there is none); the table has nothing more.
// - typeProblems: every schema of components.schemas, and every request body,
//   success body and query of an operation, has an exported TypeScript type with
//   exactly its fields, the same optionality, nullability, enum values and
//   element types, read from the source with the TypeScript compiler.

import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import ts from "typescript";
import YAML from "yaml";

const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
/** The two operations a publishable key opens (openapi.yaml's apiKey scheme says so). */
const PUBLISHABLE_OPERATIONS = new Set(["apply", "trackClick"]);

export function loadSpec(path) {
  return YAML.parse(readFileSync(path, "utf8"));
}

/** Every operation of the spec: id, method, path, security scheme names and the operation. */
export function specOperations(spec) {
  const out = [];
  for (const [path, item] of Object.entries(spec.paths ?? {})) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const security = (op.security ?? spec.security ?? []).flatMap((req) => Object.keys(req));
      out.push({ id: op.operationId, method: method.toUpperCase(), path, security, op, item });
    }
  }
  return out;
}

function expectedAuth(id, security) {
  if (security.length === 0) return ["none"];
  if (security.length > 1) return [`one of ${security.join(", ")} (the SDK supports one scheme per route)`];
  switch (security[0]) {
    case "apiKey":
      return [PUBLISHABLE_OPERATIONS.has(id) ? "secretOrPublishable" : "secret"];
    case "session":
      return ["session"];
    case "adminJwt":
      return ["admin"];
    default:
      return [`a scheme the SDK does not know: ${security[0]}`];
  }
}

function resolver(spec) {
  const lookup = (ref) => ref.replace(/^#\//, "").split("/").reduce((node, key) => node?.[key], spec);
  return function resolve(node) {
    let seen = 0;
    while (node && node.$ref) {
      node = lookup(node.$ref);
      if (++seen > 20) throw new Error("$ref loop");
    }
    return node;
  };
}

function jsonSchemaOf(content) {
  return content?.["application/json"]?.schema;
}

/** The JSON body of the first 2xx answer, if any. */
function successSchema(spec, op) {
  const resolve = resolver(spec);
  const codes = Object.keys(op.responses ?? {}).filter((code) => /^2\d\d$/.test(code)).sort();
  for (const code of codes) {
    const schema = jsonSchemaOf(resolve(op.responses[code]).content);
    if (schema) return schema;
  }
  return undefined;
}

function queryParameters(spec, { op, item }) {
  const resolve = resolver(spec);
  return [...(item.parameters ?? []), ...(op.parameters ?? [])].map(resolve).filter((p) => p.in === "query");
}

/** A dotted path (`admin.applications.list`) on the client, if it is a function. */
function methodAt(client, dotted) {
  const parts = dotted.split(".");
  let owner = client;
  for (const part of parts.slice(0, -1)) owner = owner?.[part];
  return typeof owner?.[parts.at(-1)] === "function";
}

export function operationProblems(spec, table, client) {
  const problems = [];
  const resolve = resolver(spec);
  const seen = new Set();
  for (const spot of specOperations(spec)) {
    const { id, method, path, security, op } = spot;
    const where = `${id} (${method} ${path})`;
    if (!id) {
      problems.push(`${method} ${path} has no operationId`);
      continue;
    }
    seen.add(id);
    const entry = table[id];
    if (!entry) {
      problems.push(`${where} is in openapi.yaml but not in the SDK (src/operations.ts)`);
      continue;
    }
    if (entry.method !== method || entry.path !== path) {
      problems.push(`${where}: the SDK sends ${entry.method} ${entry.path}`);
    }
    const [auth] = expectedAuth(id, security);
    if (entry.auth !== auth) problems.push(`${where}: security wants ${auth}, the SDK uses ${entry.auth}`);
    if (entry.sdk === null) {
      if (!entry.why) problems.push(`${where}: no SDK method and no reason why`);
    } else if (!methodAt(client, entry.sdk)) {
      problems.push(`${where}: the SDK method ${entry.sdk} does not exist`);
    }
    if (entry.sdk !== null) {
      const request = jsonSchemaOf(resolve(op.requestBody ?? {})?.content);
      if (request && !entry.request) problems.push(`${where}: has a JSON body but no request type`);
      if (!request && entry.request) problems.push(`${where}: has no JSON body, the SDK names ${entry.request}`);
      const response = successSchema(spec, op);
      if (response && !entry.response) problems.push(`${where}: answers JSON but has no response type`);
      if (!response && entry.response) problems.push(`${where}: answers no JSON, the SDK names ${entry.response}`);
      const query = queryParameters(spec, spot);
      if (query.length && !entry.query) problems.push(`${where}: has query parameters but no query type`);
      if (!query.length && entry.query) problems.push(`${where}: has no query, the SDK names ${entry.query}`);
    }
  }
  for (const id of Object.keys(table)) {
    if (!seen.has(id)) problems.push(`${id} is in the SDK's table but not in openapi.yaml`);
  }
  return problems;
}

/** A TypeScript program over the SDK's source, and its exported types by name. */
export function sdkTypes(sdkRoot) {
  const configPath = join(sdkRoot, "tsconfig.json");
  const config = ts.readConfigFile(configPath, ts.sys.readFile);
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, dirname(configPath));
  const entry = join(sdkRoot, "src/index.ts");
  const program = ts.createProgram([entry], { ...parsed.options, noEmit: true });
  const checker = program.getTypeChecker();
  const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(entry));
  const types = new Map();
  for (let symbol of checker.getExportsOfModule(moduleSymbol)) {
    const name = symbol.getName();
    if (symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
    if (symbol.flags & (ts.SymbolFlags.Interface | ts.SymbolFlags.TypeAlias)) {
      types.set(name, checker.getDeclaredTypeOfSymbol(symbol));
    }
  }
  return { checker, types };
}

export function typeProblems(spec, table, { checker, types }) {
  const problems = [];
  const resolve = resolver(spec);
  const F = ts.TypeFlags;

  const parts = (type) => (type.isUnion() ? type.types : [type]);
  const show = (type) => checker.typeToString(type);
  const typeOfProperty = (symbol) => checker.getTypeOfSymbol(symbol);

  const isNullable = (s) =>
    s.type === "null" ||
    (Array.isArray(s.type) && s.type.includes("null")) ||
    (Array.isArray(s.enum) && s.enum.includes(null)) ||
    s.const === null ||
    (s.oneOf ?? s.anyOf ?? []).some((b) => resolve(b).type === "null");

  const baseType = (s) => (Array.isArray(s.type) ? s.type.find((t) => t !== "null") : s.type);

  /** Properties and required names of an object schema, through allOf. */
  const shape = (s) => {
    if (s.allOf) {
      const merged = { properties: {}, required: [] };
      for (const part of s.allOf.map(resolve)) {
        const inner = shape(part);
        Object.assign(merged.properties, inner.properties);
        merged.required.push(...inner.required);
      }
      return merged;
    }
    return { properties: s.properties ?? {}, required: s.required ?? [] };
  };
  const isObjectSchema = (s) => baseType(s) === "object" || s.properties !== undefined || s.allOf !== undefined;

  function compare(schemaIn, type, where) {
    const s = resolve(schemaIn);
    const all = parts(type).filter((t) => !(t.flags & F.Undefined));
    const hasNull = all.some((t) => t.flags & F.Null);
    const rest = all.filter((t) => !(t.flags & F.Null));
    if (isNullable(s) && !hasNull) problems.push(`${where}: can be null in openapi.yaml, not in the SDK`);
    if (!isNullable(s) && hasNull) problems.push(`${where}: cannot be null in openapi.yaml, can in the SDK`);
    compareNonNull(s, rest, where);
  }

  function compareNonNull(s, rest, where) {
    const branches = (s.oneOf ?? s.anyOf)?.map(resolve).filter((b) => b.type !== "null");
    if (branches) {
      if (branches.length === 1) return compareNonNull(branches[0], rest, where);
      const unmatched = [...rest];
      for (const [i, branch] of branches.entries()) {
        const names = Object.keys(shape(branch).properties).sort().join(",");
        const index = unmatched.findIndex(
          (t) => checker.getPropertiesOfType(t).map((p) => p.getName()).sort().join(",") === names,
        );
        if (index === -1) {
          problems.push(`${where}: oneOf branch ${i} {${names}} has no member with those fields in the SDK`);
          continue;
        }
        compareObject(branch, unmatched[index], `${where}|${i}`);
        unmatched.splice(index, 1);
      }
      for (const t of unmatched) problems.push(`${where}: the SDK's ${show(t)} matches no oneOf branch`);
      return;
    }
    const literals = s.const !== undefined ? [s.const] : s.enum;
    if (literals) {
      const want = literals.filter((v) => v !== null).map((v) => JSON.stringify(v)).sort();
      const got = rest.map(show).sort();
      if (want.join("|") !== got.join("|")) {
        problems.push(`${where}: openapi.yaml allows ${want.join(" | ")}, the SDK ${got.join(" | ") || "nothing"}`);
      }
      return;
    }
    const kind = baseType(s);
    if (kind === "string") {
      if (rest.length !== 1 || !(rest[0].flags & F.String)) problems.push(`${where}: string in openapi.yaml, ${rest.map(show).join(" | ")} in the SDK`);
    } else if (kind === "integer" || kind === "number") {
      if (rest.length !== 1 || !(rest[0].flags & F.Number)) problems.push(`${where}: number in openapi.yaml, ${rest.map(show).join(" | ")} in the SDK`);
    } else if (kind === "boolean") {
      if (rest.length !== 2 || !rest.every((t) => t.flags & F.BooleanLiteral)) problems.push(`${where}: boolean in openapi.yaml, ${rest.map(show).join(" | ")} in the SDK`);
    } else if (kind === "array") {
      if (rest.length !== 1 || !checker.isArrayType(rest[0])) {
        problems.push(`${where}: array in openapi.yaml, ${rest.map(show).join(" | ")} in the SDK`);
      } else {
        compare(s.items ?? {}, checker.getTypeArguments(rest[0])[0], `${where}[]`);
      }
    } else if (isObjectSchema(s)) {
      if (rest.length !== 1) problems.push(`${where}: an object in openapi.yaml, ${rest.map(show).join(" | ")} in the SDK`);
      else compareObject(s, rest[0], where);
    } else if (kind === "null") {
      if (rest.length) problems.push(`${where}: only null in openapi.yaml, ${rest.map(show).join(" | ")} in the SDK`);
    }
  }

  function compareObject(s, type, where) {
    const { properties, required } = shape(s);
    const tsProps = new Map(checker.getPropertiesOfType(type).map((p) => [p.getName(), p]));
    for (const [name, propSchema] of Object.entries(properties)) {
      const prop = tsProps.get(name);
      if (!prop) {
        problems.push(`${where}.${name}: in openapi.yaml, missing from the SDK`);
        continue;
      }
      const optional = (prop.flags & ts.SymbolFlags.Optional) !== 0;
      if (required.includes(name) && optional) problems.push(`${where}.${name}: required in openapi.yaml, optional in the SDK`);
      if (!required.includes(name) && !optional) problems.push(`${where}.${name}: optional in openapi.yaml, required in the SDK`);
      compare(propSchema, typeOfProperty(prop), `${where}.${name}`);
    }
    for (const name of tsProps.keys()) {
      if (!(name in properties)) problems.push(`${where}.${name}: in the SDK, not in openapi.yaml`);
    }
  }

  const named = (name, where) => {
    const type = types.get(name);
    if (!type) problems.push(`${where}: the SDK exports no type ${name}`);
    return type;
  };

  for (const [name, schema] of Object.entries(spec.components?.schemas ?? {})) {
    const type = named(name, `components.schemas.${name}`);
    if (type) compare(schema, type, name);
  }
  for (const spot of specOperations(spec)) {
    const entry = table[spot.id];
    if (!entry || entry.sdk === null) continue;
    const request = jsonSchemaOf(resolve(spot.op.requestBody ?? {})?.content);
    if (request && entry.request) {
      const type = named(entry.request, `${spot.id} request`);
      if (type) compare(request, type, `${spot.id} request ${entry.request}`);
    }
    const response = successSchema(spec, spot.op);
    if (response && entry.response) {
      const type = named(entry.response, `${spot.id} response`);
      if (type) compare(response, type, `${spot.id} response ${entry.response}`);
    }
    const query = queryParameters(spec, spot);
    if (query.length && entry.query) {
      const type = named(entry.query, `${spot.id} query`);
      const schema = {
        type: "object",
        properties: Object.fromEntries(query.map((p) => [p.name, p.schema ?? {}])),
        required: query.filter((p) => p.required).map((p) => p.name),
      };
      if (type) compare(schema, type, `${spot.id} query ${entry.query}`);
    }
  }
  return problems;
}

/**
 * The events table of docs/api.md: for each event, the `data` fields it names
 * (`application {id, email, name}` → application: [id, email, name]).
 */
export function documentedEvents(markdown) {
  const section = markdown.split(/^### Events\s*$/m)[1]?.split(/^##/m)[0] ?? "";
  const events = new Map();
  for (const line of section.split("\n")) {
    const cells = line.split("|").map((c) => c.trim());
    if (cells.length < 4 || !cells[1].startsWith("`")) continue;
    const names = [...cells[1].matchAll(/`([a-z_]+)`/g)].map((m) => m[1]);
    const data = {};
    for (const [, key, fields] of cells[2].matchAll(/`(\w+) \{([^}]*)\}`/g)) {
      data[key] = fields.split(",").map((f) => f.trim()).filter((f) => /^\w+$/.test(f));
    }
    for (const name of names) events.set(name, data);
    // "(and `previousStatus`)" belongs to the row's last event (deal_status_changed).
    const extras = [...cells[2].matchAll(/\(and `(\w+)`\)/g)].map((m) => m[1]);
    if (extras.length && names.length) {
      events.set(names.at(-1), { ...data, ...Object.fromEntries(extras.map((e) => [e, []])) });
    }
  }
  return events;
}

/** The SDK's WebhookEvent union against the EventType enum and the docs' table. */
export function eventProblems(spec, docsEvents, { checker, types }) {
  const problems = [];
  const union = types.get("WebhookEvent");
  if (!union) return ["the SDK exports no WebhookEvent"];
  const members = new Map();
  for (const member of union.isUnion() ? union.types : [union]) {
    const event = checker.getTypeOfSymbol(checker.getPropertyOfType(member, "event"));
    members.set(checker.typeToString(event).replace(/"/g, ""), member);
  }
  const enumValues = spec.components?.schemas?.EventType?.enum ?? [];
  for (const name of enumValues) if (!members.has(name)) problems.push(`event ${name}: in openapi.yaml's EventType, not in WebhookEvent`);
  for (const name of members.keys()) if (!enumValues.includes(name)) problems.push(`event ${name}: in WebhookEvent, not in openapi.yaml's EventType`);
  for (const [name, data] of docsEvents) {
    const member = members.get(name);
    if (!member) {
      problems.push(`event ${name}: in docs/api.md, not in WebhookEvent`);
      continue;
    }
    const dataType = checker.getTypeOfSymbol(checker.getPropertyOfType(member, "data"));
    for (const [key, fields] of Object.entries(data)) {
      const prop = checker.getPropertyOfType(dataType, key);
      if (!prop) {
        problems.push(`event ${name}: data.${key} is documented, not in the SDK`);
        continue;
      }
      const inner = checker.getNonNullableType(checker.getTypeOfSymbol(prop));
      for (const field of fields) {
        if (!checker.getPropertyOfType(inner, field)) problems.push(`event ${name}: data.${key}.${field} is documented, not in the SDK`);
      }
    }
  }
  return problems;
}
