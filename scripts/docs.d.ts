export function readHelpTopics(root: string): Record<string, string>;
