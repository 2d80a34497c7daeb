import type { Command } from 'commander';

/**
 * Shell completion generated from the command tree itself, so it cannot drift from the flags the
 * CLI accepts: command names first, then each command's own flags plus the shared ones.
 */
export const COMPLETION_SHELLS = ['bash', 'zsh'] as const;
export type CompletionShell = (typeof COMPLETION_SHELLS)[number];

export function completionScript(program: Command, shell: CompletionShell): string {
  const flagsOf = (command: Command) => command.options.flatMap((option) => [option.short, option.long]).filter((flag): flag is string => Boolean(flag));
  const shared = [...flagsOf(program), '--help'];
  const commands = program.commands.map((command) => command.name());
  const cases = program.commands.map((command) => `    ${command.name()}) flags="${flagsOf(command).join(' ')}" ;;`).join('\n');
  const bash = `_certflow() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" flags=""
  if [[ \${COMP_CWORD} -eq 1 ]]; then
    COMPREPLY=( $(compgen -W "${commands.join(' ')} help" -- "$cur") )
    return
  fi
  case "\${COMP_WORDS[1]}" in
${cases}
    help) COMPREPLY=( $(compgen -W "${commands.join(' ')}" -- "$cur") ); return ;;
  esac
  COMPREPLY=( $(compgen -W "$flags ${shared.join(' ')}" -- "$cur") )
}
complete -F _certflow certflow
`;
  // zsh runs the same function through its bash-completion layer.
  return shell === 'zsh' ? `#compdef certflow\nautoload -U +X bashcompinit && bashcompinit\n${bash}` : bash;
}
