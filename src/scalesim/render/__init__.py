"""Ways to show a system and a result: terminal summaries now, diagrams and reports later."""
