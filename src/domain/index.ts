// The domain's public surface: pure logic and types, importable from anywhere (orchestrations included).
export * from "./validation";
export * from "./resourceIds";
export * from "./replication";
export * from "./sharePlan";
export * from "./events";
export * from "./messages";
export * from "./errors";
export * from "./consent";
export * from "./instanceIds";
export * from "./polling";
