// Moved to the turn core (turn/echo.ts); kept so imports of graph/echo.js keep working.
export { contextOf, withoutEngramContext } from "../turn/echo.js";
