// A template's parameters as the gallery's form shows them: the server refuses bad values
// with one message, "NAME=VALUE: why; allowed: …" per parameter joined by "; " (scalesim new
// --set says the same); the form puts each under its own field.

/** The server's message split by the parameter each part names; what names none (a check
 * across parameters) is `other`. */
export function problemsByParam(message: string, names: string[]): { byParam: Record<string, string>; other: string[] } {
  const starts: { at: number; name: string }[] = [];
  for (const name of names) {
    const prefix = `${name}=`;
    for (let at = message.indexOf(prefix); at >= 0; at = message.indexOf(prefix, at + 1)) {
      if (at === 0 || message.slice(at - 2, at) === "; ") starts.push({ at, name });
    }
  }
  starts.sort((a, b) => a.at - b.at);
  const byParam: Record<string, string> = {};
  const other: string[] = [];
  const lead = (starts.length ? message.slice(0, starts[0].at) : message).replace(/;\s*$/, "").trim();
  if (lead) other.push(lead);
  starts.forEach(({ at, name }, i) => {
    const part = message.slice(at, i + 1 < starts.length ? starts[i + 1].at : undefined).replace(/;\s*$/, "").trim();
    byParam[name] = byParam[name] ? `${byParam[name]}; ${part}` : part;
  });
  return { byParam, other };
}
