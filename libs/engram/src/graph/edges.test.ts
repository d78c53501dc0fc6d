import { expect, it } from "@jest/globals";
import { isEngramError } from "../core/errors.js";
import { routeByImportance } from "./edges.js";

it("routes at or above the threshold to remember, below it to consolidate", () => {
  const route = routeByImportance(0.5);
  expect(route({ importance: 0.49 })).toBe("consolidate");
  expect(route({ importance: 0.5 })).toBe("remember");
  expect(route({ importance: 0.9 })).toBe("remember");
  expect(routeByImportance(0)({ importance: 0 })).toBe("remember");
});

it("refuses a threshold outside 0..1 with a typed error", () => {
  for (const bad of [-0.1, 1.5, Number.NaN, "0.5" as unknown as number]) {
    let error: unknown;
    try {
      routeByImportance(bad);
    } catch (e) {
      error = e;
    }
    expect(isEngramError(error, "INVALID_OPTIONS")).toBe(true);
  }
});
