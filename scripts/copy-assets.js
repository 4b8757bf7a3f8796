// Node-RED loads a node's .html, its locales/ and icons/ from beside its .js file:
// tsc only emits .js, so the build places the rest there.
"use strict";
const fs = require("fs");
const path = require("path");

const root = path.join(__dirname, "..");
const from = path.join(root, "nodes");
const to = path.join(root, "dist", "nodes");

function copy(src, dst) {
  for (const entry of fs.readdirSync(src, { withFileTypes: true })) {
    const s = path.join(src, entry.name);
    const d = path.join(dst, entry.name);
    if (entry.isDirectory()) {
      fs.mkdirSync(d, { recursive: true });
      copy(s, d);
    } else if (!entry.name.endsWith(".ts")) {
      fs.mkdirSync(dst, { recursive: true });
      fs.copyFileSync(s, d);
    }
  }
}
copy(from, to);
