# bash completion for qmasque and qmasque-proxy. Options are read from the program's own --help,
# so the completion never falls out of step with the program.
_qmasque_complete()
{
    local cur prev
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD-1]}
    case "$prev" in
        --config|--ca|--cert|--key|--client-cert|--client-key|--snapshot)
            COMPREPLY=($(compgen -f -- "$cur"))
            return ;;
        --transports)
            COMPREPLY=($(compgen -W "h3,h2,h1 h3,h2 h2,h1 h3 h2 h1" -- "$cur"))
            return ;;
        --log-level)
            COMPREPLY=($(compgen -W "debug info warning error" -- "$cur"))
            return ;;
        --tcp-mode)
            COMPREPLY=($(compgen -W "connect template" -- "$cur"))
            return ;;
    esac
    if [[ "$cur" == -* ]]; then
        local opts
        opts=$("${COMP_WORDS[0]}" --help 2>/dev/null | grep -oE -- '--[a-z0-9-]+' | sort -u)
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    fi
}
complete -F _qmasque_complete qmasque qmasque-proxy
