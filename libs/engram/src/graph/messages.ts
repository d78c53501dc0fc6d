// Moved to the turn core (turn/messages.ts); kept so imports of graph/messages.js keep working.
export { exchangeText, isAi, isHuman, lastExchange, lastHumanIndex, textOf } from "../turn/messages.js";
