export function bundleConsoleUi(root: string): Promise<{ html: string; css: string; js: string }>;
