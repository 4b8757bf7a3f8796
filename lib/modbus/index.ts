// Public API of the Modbus engine (no Node-RED here).
export * from "./types";
export { ModbusError, type ModbusErrorKind, exceptionName } from "./errors";
export { widthOf, entryWidth, reorder, decodeRegisters, encodeRegisters, encodeBit } from "./codec";
export { validateMap, assertValidMap, parseMapJson, mapToJson, AREAS, DATA_TYPES, ORDERS, TARGETS, REPORT_MODES, type MapValidation } from "./register-map";
export { parseMapCsv, csvToRawEntries, mapToCsv, CSV_COLUMNS } from "./map-csv";
export { planReads, MAX_READ_REGISTERS, MAX_READ_BITS, DEFAULT_MAX_GAP_REGISTERS, DEFAULT_MAX_GAP_BITS, type PlanResult } from "./planner";
export { shouldReport, Reporter, type Reported } from "./report";
export { ModbusLine, backoffDelay, type RequestOptions, type LineStats } from "./line";
export { UnitPoller } from "./poller";
export { UnitWriter, planWrites, MAX_WRITE_COILS, MAX_WRITE_REGISTERS, type WriteOp, type WriteOptions } from "./writer";
export { describeTarget } from "./transport";
