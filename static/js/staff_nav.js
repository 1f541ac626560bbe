// On a phone the staff tab bar is one scrolling row: bring the current tab into view.
(function () {
  var nav = document.querySelector(".staff-nav");
  var current = nav && nav.querySelector('[aria-current="page"]');
  if (current && nav.scrollWidth > nav.clientWidth) {
    nav.scrollLeft = current.offsetLeft - nav.offsetLeft - 16;
  }
})();
