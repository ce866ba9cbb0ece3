"""Model recipes (data, training) and the trained artifacts of the tone model."""
