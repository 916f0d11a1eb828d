"""基础 core: settings, database, actors, authorization, the audit chain, validators, i18n, errors."""
