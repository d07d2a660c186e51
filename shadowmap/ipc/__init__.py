"""The local link between the native host, the agent's CLI and the agent daemon: the
framing both ends speak, the Unix-socket / named-pipe client, and the Windows pipe's trust
checks. Stdlib only (the browser starts the host on every connectNative), below the bridge
and the agent so that neither imports the other."""
