"""What operators did: every action taken in Django admin or through the bot's /admin, with
who, when and why (the loan's timeline shows the ones about a loan)."""
