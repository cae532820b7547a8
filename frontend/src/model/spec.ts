// Loose views of spec data: the text may be mid-edit, so nothing here assumes it is valid.
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Obj = { [key: string]: Json };

export function isObj(value: unknown): value is Obj {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function obj(value: unknown): Obj {
  return isObj(value) ? value : {};
}

export function arr(value: unknown): Json[] {
  return Array.isArray(value) ? (value as Json[]) : [];
}

export function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** The value at `path` in the spec's data (undefined where the path leads nowhere). */
export function getIn(data: unknown, path: (string | number)[]): unknown {
  return path.reduce<unknown>((value, key) => (value as Record<string | number, unknown> | undefined)?.[key as string], data);
}

export const KINDS = ["service", "gateway", "database", "cache", "queue", "external"] as const;
export type Kind = (typeof KINDS)[number];

export function kindOf(component: unknown): Kind {
  const kind = obj(component).kind;
  return (KINDS as readonly string[]).includes(String(kind)) ? (kind as Kind) : "service";
}

/** The operations a component answers; a queue without operations accepts `publish`. */
export function operationsOf(component: unknown): string[] {
  const ops = Object.keys(obj(obj(component).operations));
  return ops.length === 0 && kindOf(component) === "queue" ? ["publish"] : ops;
}

/** 'orders' or 'orders.create' -> [component, operation]; the first operation by default. */
export function resolve(data: unknown, ref: string): [string, string] {
  const [component, operation] = ref.split(".", 2);
  const comp = obj(obj(data).components)[component];
  return [component, operation ?? operationsOf(comp)[0] ?? ""];
}
