import type { ChromaClient, Collection } from "chromadb";

/**
 * The server's collections whose name starts with `start` (a prefix's user collections, say),
 * listed a page at a time: a server shared by many users holds more than one answer should carry.
 */
export async function* collectionsStartingWith(client: ChromaClient, start: string, page = 1_000): AsyncGenerator<Collection> {
  for (let offset = 0; ; offset += page) {
    const listed = await client.listCollections({ limit: page, offset });
    for (const collection of listed) if (collection.name.startsWith(start)) yield collection;
    if (listed.length < page) return;
  }
}
