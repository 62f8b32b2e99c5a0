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
