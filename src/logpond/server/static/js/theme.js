// Runs before the first paint (a classic script): the chosen theme, so a dark page never flashes white.
document.documentElement.dataset.theme = localStorage.getItem("logpond.theme") || "auto";
