// "Use my location" on a service guide: fills the halls form's lat/lon from the browser and submits it.
// Without scripts or without permission the division select still works (the button stays hidden or says why).
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-near-me]").forEach(function (form) {
      var button = form.querySelector("[data-locate]");
      var status = form.querySelector("[data-locate-status]");
      if (!button || !("geolocation" in navigator)) { return; }
      button.hidden = false;
      button.addEventListener("click", function () {
        navigator.geolocation.getCurrentPosition(function (position) {
          form.querySelector("[data-lat]").value = position.coords.latitude.toFixed(5);
          form.querySelector("[data-lon]").value = position.coords.longitude.toFixed(5);
          form.querySelector("select[name=division]").value = "";
          form.submit();
        }, function () {
          if (status) { status.textContent = status.dataset.failed; }
        }, { timeout: 10000, maximumAge: 600000 });
      });
    });
  });
})();
