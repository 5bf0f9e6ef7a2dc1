"""Reading and checking message bodies as the platforms do: GSMA ``RCSMessage`` and Google
``AgentMessage`` bodies, their expiry fields, and the refusal type every flavour renders."""
