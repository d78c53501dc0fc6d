import type { Command } from "commander";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { ErrorCode } from "@modelcontextprotocol/sdk/types.js";
import { InFlightRequests } from "../../adapters/mcp/in_flight.js";
import { LineLimit } from "../../adapters/mcp/line_limit.js";
import { createEngramMcpServer } from "../../adapters/mcp/server.js";
import type { CliIO } from "../io.js";
import { addStoreOptions, withMemory, type StoreFlags } from "../memory_options.js";

/**
 * Longest message taken, in bytes: far above any tool's arguments (a memory holds at most 8,000
 * characters), and below the SDK's 10 MiB buffer, past which its transport closes itself.
 */
export const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

/**
 * `mcp`: serves one user's memory as MCP tools over stdio, for MCP clients (Claude Desktop, IDEs)
 * and LangChain agents (`@langchain/mcp-adapters`). The user is this command's `--user`: no tool
 * takes one. stdout carries the protocol; everything else goes to stderr.
 */
export function registerMcpCommand(program: Command, io: CliIO): void {
  const command = addStoreOptions(
    program
      .command("mcp")
      .description("serve the user's memory as MCP tools over stdio (search, add, list, get, update, delete)")
      .option("--allow-erase", "also offer erase_memories (every memory of the user, for good)")
      .option("--allow-instructions", "let clients add, change and delete instructions (procedure memories, kept in every system prompt)"),
  );
  command.action(async (flags: StoreFlags & { user: string; allowErase?: boolean; allowInstructions?: boolean }) => {
    await withMemory(io, flags, async (memory) => {
      const server = createEngramMcpServer({
        memory,
        userId: flags.user,
        allowErase: flags.allowErase === true,
        allowInstructions: flags.allowInstructions === true,
        version: program.version() ?? "0.0.0",
      });
      // An oversized message is refused on its own (the call gets an error), not the server ended.
      const input = process.stdin.pipe(
        new LineLimit(MAX_MESSAGE_BYTES, (bytes, id) => {
          const message = `The message is ${bytes} bytes; engram mcp takes at most ${MAX_MESSAGE_BYTES} (a memory holds at most 8,000 characters).`;
          if (id === undefined) io.err(`engram mcp: dropped a message without a request id: ${message}\n`);
          else void transport.send({ jsonrpc: "2.0", id, error: { code: ErrorCode.InvalidRequest, message } });
        }),
      );
      const transport = new StdioServerTransport(input, process.stdout);
      const calls = new InFlightRequests(transport);
      // Ends when the client closes its end of the pipe (the usual way an MCP client stops a
      // server), the transport closes, or the process is told to stop. At end of input the calls
      // already sent are answered first: closing at once aborted them, and a memory being added
      // was neither stored nor reported.
      const closed = new Promise<void>((resolve) => {
        transport.onclose = () => resolve();
        input.once("end", () => void calls.idle().then(resolve));
      });
      await server.connect(transport);
      io.err(`engram mcp: serving the memory of ${JSON.stringify(flags.user)} over stdio\n`);
      const ended = new AbortController();
      await Promise.race([closed, io.untilStopped(ended.signal)]);
      ended.abort(); // the client went first: stop waiting for a signal, so the process can exit
      await server.close();
      // Stop reading stdin: a paused pipe is still read (and holds the process) while the client
      // keeps its end open, so a signal did not end the server until the client closed it.
      process.stdin.unpipe(input);
      process.stdin.destroy();
    });
  });
}
