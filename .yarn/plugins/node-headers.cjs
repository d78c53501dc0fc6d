// Native addons (better-sqlite3) are compiled by node-gyp, which otherwise downloads Node's
// headers from the internet. Yarn 4 ignores ~/.npmrc, so point node-gyp at the headers that ship
// beside the running Node binary when they match its version.
const fs = require("fs");
const path = require("path");

module.exports = {
  name: "node-headers",
  factory: () => ({
    hooks: {
      setupScriptEnvironment(_project, env) {
        if (env.npm_config_nodedir) return;
        const dir = path.join(path.dirname(path.dirname(process.execPath)), "include", "node");
        try {
          const header = fs.readFileSync(path.join(dir, "node_version.h"), "utf8");
          const major = /#define NODE_MAJOR_VERSION (\d+)/.exec(header)?.[1];
          const minor = /#define NODE_MINOR_VERSION (\d+)/.exec(header)?.[1];
          const patch = /#define NODE_PATCH_VERSION (\d+)/.exec(header)?.[1];
          if (`v${major}.${minor}.${patch}` === process.version) {
            env.npm_config_nodedir = path.dirname(path.dirname(dir));
          }
        } catch {
          // No headers beside Node: leave node-gyp to its own defaults.
        }
      },
    },
  }),
};
