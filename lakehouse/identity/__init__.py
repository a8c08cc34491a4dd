"""Identity resolution: one master person index across every agency's person records."""
