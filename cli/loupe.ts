#!/usr/bin/env node
// `loupe <command>`: the one entry point, for people (trace) and for the
// images (agent, operator).
import { agentCommand } from './agent-command.js';
import { traceCommand } from './trace-command.js';
import { operatorCommand } from './operator-command.js';

const USAGE = `Usage: loupe <command> [options]

Commands:
  trace     trace cgroups, containers or pids on this machine (loupe trace --help)
  report    write a TraceProfile's or a trace's results as one HTML file (loupe report --help)
  agent     run the node agent: trace what this node's NodeTracePlan asks (loupe agent --help)
  operator  run the operator: TraceProfiles → NodeTracePlans → status (loupe operator --help)
`;

const commands: Record<string, (args: string[]) => Promise<number>> = {
  trace: (args) => traceCommand(args),
  // Loaded on use: the agent and operator images carry no report page (report/).
  report: async (args) => (await import('./report-command.js')).reportCommand(args),
  agent: (args) => agentCommand(args),
  operator: (args) => operatorCommand(args),
};

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(USAGE);
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (command === undefined) {
    process.stderr.write(`loupe: unknown command ${JSON.stringify(name)}: choose from ${Object.keys(commands).join(', ')}\n`);
    return 2;
  }
  return command(args);
}

// exitCode rather than exit(): stdout drains before the process ends.
process.exitCode = await main(process.argv.slice(2));
