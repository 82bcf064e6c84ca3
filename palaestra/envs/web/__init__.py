"""Web navigation: the shop (text and browser modes) and MiniWoB++ pages in Chromium."""
