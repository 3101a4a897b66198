// Loaded in <head> of every page: marks that scripts run, so that the tablet menu may fold
// behind its toggler (Bootstrap's collapse). Without scripts the menu stays unfolded (app.css).
document.documentElement.classList.add("js");
