/**
 * `engram/mcp`: the MCP server behind `engram mcp` (search, add, list, get, update, delete for one
 * user), to serve over a transport of your own.
 */
export { createEngramMcpServer, type EngramMcpServerOptions, type McpMemory } from "../adapters/mcp/server.js";
