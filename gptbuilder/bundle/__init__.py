"""An assistant as one .gptb file: manifest schema, safe archive reading, export and import."""
