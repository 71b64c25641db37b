int pg_placeholder(void) { return 0; }
