/**
 * The owner `deleteUser` leaves on the checkpointer threads of an erased user (a claim row of the
 * filing log, `THREAD_CLAIM_KEY`). Memory.deleteAll erases the user's memories and state rows,
 * not the checkpoints a saver keeps of their threads: were the threads freed, another user's first
 * run on one would claim it and read the erased user's conversation. With this owner every named
 * user is refused until `deleteThread` frees the id. It is never a user id (ids are not empty).
 */
export const ERASED_OWNER = "";
