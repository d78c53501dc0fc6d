import { expect } from "@jest/globals";

// The official checkpointer validation suite calls `expect.soft`, which Jest does not have.
const withSoft = expect as typeof expect & { soft?: typeof expect };
if (!withSoft.soft) withSoft.soft = expect;
