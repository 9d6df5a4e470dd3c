// A self-contained HTML page (no scripts, no CDN) listing the operations of the OpenAPI document.
type Json = Record<string, unknown>;

const esc = (s: unknown) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function renderViewer(doc: Json): string {
  const rows: string[] = [];
  const paths = (doc.paths ?? {}) as Record<string, Record<string, Json>>;
  for (const [path, ops] of Object.entries(paths).sort(([a], [b]) => a.localeCompare(b))) {
    for (const [method, op] of Object.entries(ops)) {
      const security = (op.security as Array<Record<string, string[]>> | undefined) ?? [];
      const auth = security.length === 0 ? 'none'
        : security.map((s) => Object.entries(s).map(([k, v]) => (v.length ? `${k} (${v.join(', ')})` : k)).join(' + ')).join(' or ');
      const body = (op.requestBody as { content?: Record<string, { schema?: unknown }> } | undefined)?.content?.['application/json']?.schema;
      const params = (op.parameters as Json[] | undefined) ?? [];
      const detail = [
        params.length ? `<p>parameters: ${params.map((p) => `<code>${esc(p.name)}</code> (${esc(p.in)}${p.required ? ', required' : ''})`).join(', ')}</p>` : '',
        body ? `<details><summary>request body</summary><pre>${esc(JSON.stringify(body, null, 2))}</pre></details>` : '',
        `<p>responses: ${Object.keys((op.responses ?? {}) as Json).map(esc).join(', ')}</p>`,
      ].join('');
      rows.push(`<tr><td class="m ${esc(method)}">${esc(method.toUpperCase())}</td><td><code>${esc(path)}</code></td><td>${esc(auth)}</td><td>${esc(op.summary ?? '')}${detail}</td></tr>`);
    }
  }
  const info = (doc.info ?? {}) as Json;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(info.title)} API</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #ddd;padding:.4em;vertical-align:top;text-align:left}code,pre{font:12px ui-monospace,monospace}
pre{background:#f6f6f6;padding:.5em;overflow:auto;max-height:20em}.m{font-weight:bold}.get{color:#06c}.post{color:#080}.put{color:#a60}.delete{color:#c00}
p{margin:.2em 0}
</style></head><body>
<h1>${esc(info.title)} API <small>${esc(info.version)}</small></h1>
<p>${esc(info.description ?? '')}</p>
<p>Machine-readable: <a href="/docs/openapi.json">/docs/openapi.json</a> (OpenAPI ${esc(doc.openapi)}). Errors: <code>{ "error": { "code", "message", "details"? } }</code>.</p>
<table><thead><tr><th>method</th><th>path</th><th>auth</th><th>what</th></tr></thead><tbody>
${rows.join('\n')}
</tbody></table></body></html>`;
}
