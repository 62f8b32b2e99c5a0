/** A small fleet policy the fleet and agent tests push and apply. */
export const POLICY = `settings: { input_drop: true, output_drop: false }
rules:
  Web from web:
    on: roles:web
    direction: in
    protocol: tcp
    source: roles:web
    dport: 8080
`;

/** Clients may reach the app hosts' port: what the fleet end-to-end tests (agents in namespaces) apply. */
export const appFromClients = (port: number): string => `settings: { input_drop: true, output_drop: false, input_drop_log: false, output_drop_log: false }
rules:
  App from clients:
    on: roles:app
    direction: in
    protocol: tcp
    source: roles:client
    dport: ${port}
`;
