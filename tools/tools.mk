# tools/: small programs built beside the modules (owned by the redaction engine for now)
