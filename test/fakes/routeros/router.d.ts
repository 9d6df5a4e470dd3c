// Types of the fake router's helpers used by tests (the class itself is typed in server.d.ts).
export declare function evalQuery(row: Record<string, string>, queries: string[]): boolean;
export declare function formatRosDuration(seconds: number): string;
export declare function parseRosDuration(text: string): number | null;
