// Loupe
