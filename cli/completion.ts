/** `completion bash|zsh`: completion scripts generated from the command and option tables. */
import { UsageError } from "./errors";
import { Command, COMMAND_NAMES, COMMANDS, OPTIONS } from "./spec";

export const SHELLS = ["bash", "zsh"] as const;
export type Shell = (typeof SHELLS)[number];

export function completionScript(shell: string): string {
  if (shell === "bash") return bashScript();
  if (shell === "zsh") return zshScript();
  throw new UsageError(`no completion for shell "${shell}"`, `use one of ${SHELLS.join(", ")}`, Command.Completion);
}

function optionWords(command: Command): string {
  return COMMANDS[command].options.map((o) => `--${o}`).join(" ");
}

/** Values an option's completion can offer, when the set is closed. */
const VALUES: Partial<Record<keyof typeof OPTIONS, string>> = {
  environment: "dev stage prod",
  backend: "documented-api openclaw-devices",
};

function bashScript(): string {
  const cases = COMMAND_NAMES.map((c) => `    ${c}) opts="${optionWords(c)}" ;;`).join("\n");
  const valueCases = Object.entries(VALUES).map(([o, v]) => `    --${o}) COMPREPLY=($(compgen -W "${v}" -- "$cur")); return ;;`).join("\n");
  return `# bash completion for openclaw-tokens: source <(openclaw-tokens completion bash)
_openclaw_tokens() {
  local cur prev cmd opts i
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  case "$prev" in
${valueCases}
  esac
  cmd=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in -*) ;; *) cmd="\${COMP_WORDS[i]}"; break ;; esac
  done
  if [[ -z "$cmd" ]]; then
    COMPREPLY=($(compgen -W "${COMMAND_NAMES.join(" ")} --help --version" -- "$cur"))
    return
  fi
  case "$cmd" in
${cases}
    *) opts="" ;;
  esac
  if [[ "$cmd" == completion ]]; then opts="$opts bash zsh"; fi
  if [[ "$cmd" == help ]]; then opts="$opts ${COMMAND_NAMES.join(" ")}"; fi
  COMPREPLY=($(compgen -W "$opts" -- "$cur"))
}
complete -F _openclaw_tokens openclaw-tokens
`;
}

function zshScript(): string {
  const describe = COMMAND_NAMES.map((c) => `    '${c}:${COMMANDS[c].summary.replace(/'/g, "")}'`).join("\n");
  const cases = COMMAND_NAMES.map((c) => {
    const specs = COMMANDS[c].options.map((o) => {
      const option = OPTIONS[o];
      const text = option.description.replace(/['[\]:]/g, "");
      const values = VALUES[o] ? `:${o}:(${VALUES[o]})` : option.type === "string" ? `:${o}: ` : "";
      return `'--${o}[${text}]${values}'`;
    });
    const extra = c === Command.Completion ? " '1:shell:(bash zsh)'" : c === Command.Help ? ` '1:command:(${COMMAND_NAMES.join(" ")})'` : "";
    return `    ${c}) _arguments ${specs.join(" ")}${extra} ;;`;
  }).join("\n");
  return `#compdef openclaw-tokens
# zsh completion for openclaw-tokens: openclaw-tokens completion zsh > "\${fpath[1]}/_openclaw-tokens"
_openclaw_tokens() {
  local -a commands
  commands=(
${describe}
  )
  if (( CURRENT == 2 )); then
    _describe 'command' commands
    return
  fi
  local cmd="\${words[2]}"
  shift words
  (( CURRENT-- ))
  case "$cmd" in
${cases}
  esac
}
compdef _openclaw_tokens openclaw-tokens
`;
}
