// The empty state: no log groups yet, so say how to send the first log.

import { h } from "./util.js";

export function emptyState() {
  const origin = location.origin;
  const curl = `curl -s "${origin}/api/v1/ingest?group=/myapp/dev&stream=laptop" \\
  -H "Authorization: Bearer $LOGPOND_ACCESS_KEY_ID:$LOGPOND_SECRET_ACCESS_KEY" \\
  -H 'Content-Type: application/x-ndjson' \\
  --data-binary '{"level":"info","message":"hello, logpond","trace_id":"t-1"}'`;
  const python = `import json, os, urllib.request

key = os.environ["LOGPOND_ACCESS_KEY_ID"] + ":" + os.environ["LOGPOND_SECRET_ACCESS_KEY"]
request = urllib.request.Request(
    "${origin}/api/v1/ingest?group=/myapp/dev&stream=laptop",
    data=json.dumps({"level": "warning", "message": "hello, logpond"}).encode(),
    headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
)
print(urllib.request.urlopen(request).read())`;
  return h("div.panel.empty#empty-state",
    h("h2", "No logs yet"),
    h("p", "logpond keeps logs in log groups. Send your first event and it shows up here; the group is created on the first write."),
    h("h3", "With curl"),
    h("pre", curl),
    h("p.muted", "The root key's id and secret are in ", h("code", "data/root-credentials"),
      " (", h("code", ". data/root-credentials"), " sets both variables)."),
    h("h3", "From a file, with the CLI"),
    h("pre", "logpond ingest app.log --group /myapp/dev --stream laptop"),
    h("h3", "From Python"),
    h("pre", python),
    h("p", h("a", { href: "#/search" }, "Reload"), " once something is sent, or open ", h("a", { href: "#/tail" }, "Live tail"), " to watch it arrive."));
}
