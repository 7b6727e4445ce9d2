// What happens after django-otp-webauthn's scripts (the passkey buttons of the two-factor
// page and of the login's second step) finish; they announce it with DOM events.
(function () {
  "use strict";

  // A passkey was added: back to the overview, which lists it (and asks for recovery codes
  // when there are none yet). The library's script would only say "Registration successful!".
  document.addEventListener("otp_webauthn.register_complete", (event) => {
    const url = event.target.dataset.doneUrl;
    if (url) window.location.assign(url);
  });

  // At login, a failure that locked the account out comes back as the lockout page (429),
  // which the library's script can only call "an unknown server error": say what it is.
  document.addEventListener("otp_webauthn.verification_failed", (event) => {
    const button = event.target;
    const response = event.detail && event.detail.response;
    if (!response || response.status !== 429 || !button.dataset.lockedMessage) return;
    const status = document.getElementById("passkey-verification-status-message");
    if (status) status.textContent = button.dataset.lockedMessage;
    button.disabled = true;
  });
})();
