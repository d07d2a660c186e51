"""The relying party's side of OpenID Connect, for the console's single sign-on: the
provider's discovery document and keys (cached), the authorization request (code flow,
PKCE S256, state, nonce), the code exchange, the ID token's verification (signature by the
provider's JWKS with an allow-list of algorithms, iss, aud/azp, exp, iat, nonce) and
userinfo. The routes, the accounts and the sessions are shadowmap.collector.console.oidc."""
from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

from shadowmap.collector.oidc_settings import OidcSettings, OidcSettingsError, check_url

DISCOVERY_PATH = "/.well-known/openid-configuration"
METADATA_TTL_SECONDS = 3600
KEYS_TTL_SECONDS = 3600
KEYS_REFRESH_MIN_SECONDS = 30   # an unknown kid refetches the keys (rotation), at most this often
MAX_RESPONSE_BYTES = 1024 * 1024
HTTP_TIMEOUT_SECONDS = 10
MAX_ID_TOKEN_AGE_SECONDS = 600  # issued for this sign-in, moments ago
KEY_TYPES = ("RSA", "EC", "OKP")
# Google documents both spellings of its issuer in ID tokens; its discovery document has the first.
ISSUER_ALIASES = {"https://accounts.google.com": ("accounts.google.com",)}


class OidcError(Exception):
    """A sign-in refused or impossible; the message says why (safe to show and log)."""


class _UnknownKey(OidcError):
    """The ID token names a key (kid) the cached key set lacks."""


@dataclass(frozen=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None
    algorithms: tuple[str, ...]      # ours, less those the provider does not sign with
    iss_in_response: bool            # RFC 9207: the provider names itself in the redirect back
    end_session_endpoint: str | None = None  # RP-Initiated Logout 1.0: where a console sign-out ends the provider's


def pkce_challenge(verifier: str) -> str:
    """The S256 code challenge of a PKCE verifier (RFC 7636 4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def same_secret(given: object, expected: str) -> bool:
    return isinstance(given, str) and hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


class OidcClient:
    """One per collector process: it keeps the provider's metadata and keys, and one HTTP
    client session (made on first use, inside the event loop; closed with the app)."""

    def __init__(self, settings: OidcSettings) -> None:
        self.settings = settings
        self._http: aiohttp.ClientSession | None = None
        self._metadata: tuple[float, ProviderMetadata] | None = None
        self._keys: tuple[float, KeySet] | None = None
        self._lock = asyncio.Lock()

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()

    # ---- HTTP ---------------------------------------------------------------------------------

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=HTTP_TIMEOUT_SECONDS))
        return self._http

    async def _json(self, method: str, url: str, what: str, **kwargs: Any) -> dict[str, Any]:
        """A JSON object from the provider; redirects are not followed (every URL comes from
        the discovery document), the body is bounded."""
        try:
            async with self._session().request(method, url, allow_redirects=False, **kwargs) as response:
                body = await response.content.read(MAX_RESPONSE_BYTES + 1)
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise OidcError(f"the identity provider's {what} could not be reached ({type(exc).__name__})") from None
        if len(body) > MAX_RESPONSE_BYTES:
            raise OidcError(f"the identity provider's {what} answered with too large a body")
        try:
            document = json.loads(body)
        except ValueError:
            document = None
        if status != 200:
            error = document.get("error") if isinstance(document, dict) else None
            raise OidcError(f"the identity provider's {what} answered HTTP {status}"
                            + (f" ({str(error)[:100]})" if error else ""))
        if not isinstance(document, dict):
            raise OidcError(f"the identity provider's {what} did not answer with a JSON object")
        return document

    # ---- discovery and keys -------------------------------------------------------------------

    async def metadata(self) -> ProviderMetadata:
        now = time.monotonic()
        if self._metadata is not None and now - self._metadata[0] < METADATA_TTL_SECONDS:
            return self._metadata[1]
        async with self._lock:
            if self._metadata is None or time.monotonic() - self._metadata[0] >= METADATA_TTL_SECONDS:
                url = self.settings.issuer.rstrip("/") + DISCOVERY_PATH
                self._metadata = (time.monotonic(), self._parse_metadata(await self._json("GET", url, "discovery")))
        return self._metadata[1]

    def _parse_metadata(self, document: dict[str, Any]) -> ProviderMetadata:
        if document.get("issuer") != self.settings.issuer:  # OIDC Discovery 4.3: exactly the configured one
            raise OidcError(f"the discovery document names another issuer ({str(document.get('issuer'))[:200]!r})")
        endpoints: dict[str, str | None] = {}
        for name in ("authorization_endpoint", "token_endpoint", "jwks_uri", "userinfo_endpoint",
                     "end_session_endpoint"):
            value = document.get(name)
            if value is None and name in ("userinfo_endpoint", "end_session_endpoint"):
                endpoints[name] = None
                continue
            if not isinstance(value, str):
                raise OidcError(f"the discovery document has no {name}")
            try:
                check_url(f"the provider's {name}", value, bare=False)
            except OidcSettingsError as exc:
                raise OidcError(str(exc)) from None
            endpoints[name] = value
        challenge_methods = document.get("code_challenge_methods_supported")
        if isinstance(challenge_methods, list) and "S256" not in challenge_methods:
            raise OidcError("the identity provider does not support PKCE with S256")
        signed_with = document.get("id_token_signing_alg_values_supported")
        algorithms = tuple(alg for alg in self.settings.algorithms
                           if not isinstance(signed_with, list) or alg in signed_with)
        if not algorithms:
            raise OidcError(f"the identity provider signs ID tokens with none of {', '.join(self.settings.algorithms)}")
        return ProviderMetadata(
            issuer=self.settings.issuer, authorization_endpoint=str(endpoints["authorization_endpoint"]),
            token_endpoint=str(endpoints["token_endpoint"]), jwks_uri=str(endpoints["jwks_uri"]),
            userinfo_endpoint=endpoints["userinfo_endpoint"], algorithms=algorithms,
            iss_in_response=document.get("authorization_response_iss_parameter_supported") is True,
            end_session_endpoint=endpoints["end_session_endpoint"])

    async def keys(self, refresh: bool = False) -> KeySet:
        """The provider's signing keys; ``refresh``: fetched again (a kid we do not know),
        unless they were fetched moments ago."""
        now = time.monotonic()
        cached = self._keys
        if cached is not None and now - cached[0] < (KEYS_REFRESH_MIN_SECONDS if refresh else KEYS_TTL_SECONDS):
            return cached[1]
        metadata = await self.metadata()
        async with self._lock:
            document = await self._json("GET", metadata.jwks_uri, "key set (JWKS)")
            signing = [key for key in document.get("keys", []) if isinstance(key, dict)
                       and key.get("kty") in KEY_TYPES and key.get("use", "sig") == "sig"]
            try:
                key_set = KeySet.import_key_set({"keys": signing})
            except (JoseError, ValueError, TypeError) as exc:
                raise OidcError(f"the identity provider's key set could not be read ({exc})") from None
            self._keys = (time.monotonic(), key_set)
        return key_set

    # ---- the flow -----------------------------------------------------------------------------

    def authorization_url(self, metadata: ProviderMetadata, *, state: str, nonce: str, code_verifier: str,
                          redirect_uri: str) -> str:
        query = urlencode({
            "response_type": "code", "client_id": self.settings.client_id, "redirect_uri": redirect_uri,
            "scope": " ".join(self.settings.scopes), "state": state, "nonce": nonce,
            "code_challenge": pkce_challenge(code_verifier), "code_challenge_method": "S256",
        })
        separator = "&" if "?" in metadata.authorization_endpoint else "?"
        return metadata.authorization_endpoint + separator + query

    def logout_url(self, metadata: ProviderMetadata, *, post_logout_redirect_uri: str) -> str | None:
        """Where the browser goes to end its session at the provider too (RP-Initiated Logout
        1.0, section 2: client_id names us, as no ID token is kept), None when the provider has
        no end_session_endpoint."""
        if metadata.end_session_endpoint is None:
            return None
        query = urlencode({"client_id": self.settings.client_id, "post_logout_redirect_uri": post_logout_redirect_uri})
        separator = "&" if "?" in metadata.end_session_endpoint else "?"
        return metadata.end_session_endpoint + separator + query

    async def exchange_code(self, code: str, code_verifier: str, redirect_uri: str) -> dict[str, Any]:
        """The token endpoint's answer for this code (with an id_token), authenticated as the
        client (client_secret_basic or _post)."""
        metadata = await self.metadata()
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
                "code_verifier": code_verifier}
        headers = {"Accept": "application/json"}
        if self.settings.token_auth_method == "client_secret_post":
            form.update(client_id=self.settings.client_id, client_secret=self.settings.client_secret)
        else:  # RFC 6749 2.3.1: each part form-urlencoded before Basic
            pair = f"{quote(self.settings.client_id, safe='')}:{quote(self.settings.client_secret, safe='')}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")
        tokens = await self._json("POST", metadata.token_endpoint, "token endpoint", data=form, headers=headers)
        if not isinstance(tokens.get("id_token"), str):
            raise OidcError("the token endpoint gave no ID token")
        return tokens

    async def verify_id_token(self, id_token: str, nonce: str) -> dict[str, Any]:
        """The claims of an ID token, once it is proven: signed by one of the provider's keys
        with an allowed algorithm (never 'none', never a MAC), issued by the configured
        issuer to this client, unexpired, issued moments ago, and carrying this sign-in's nonce."""
        metadata = await self.metadata()
        try:
            token = await self._decode(id_token, metadata, refresh=False)
        except _UnknownKey:  # the provider rotated its keys: fetch them again, once
            token = await self._decode(id_token, metadata, refresh=True)
        claims = dict(token.claims)
        self._check_claims(claims, nonce)
        return claims

    async def _decode(self, id_token: str, metadata: ProviderMetadata, refresh: bool) -> jwt.Token:
        key_set = await self.keys(refresh=refresh)
        try:
            return jwt.decode(id_token, key_set, algorithms=list(metadata.algorithms))
        except InvalidKeyIdError:
            raise _UnknownKey("the ID token is signed with a key the provider does not publish") from None
        except JoseError as exc:
            raise OidcError(f"the ID token is not validly signed ({exc.error}: {exc.description or ''})") from None
        except (ValueError, TypeError) as exc:
            raise OidcError(f"the ID token could not be read ({type(exc).__name__})") from None

    def _check_claims(self, claims: dict[str, Any], nonce: str) -> None:
        settings, now, skew = self.settings, time.time(), self.settings.clock_skew_seconds
        if claims.get("iss") != settings.issuer and claims.get("iss") not in ISSUER_ALIASES.get(settings.issuer, ()):
            raise OidcError("the ID token was issued by another issuer")
        audience = claims.get("aud")
        audiences = [audience] if isinstance(audience, str) else audience if isinstance(audience, list) else []
        if settings.client_id not in audiences:
            raise OidcError("the ID token was issued to another client (audience)")
        if (len(audiences) > 1 or "azp" in claims) and claims.get("azp") != settings.client_id:
            raise OidcError("the ID token was issued to another client (authorized party)")
        exp, iat = claims.get("exp"), claims.get("iat")
        if not isinstance(exp, int | float) or isinstance(exp, bool) or exp <= now - skew:
            raise OidcError("the ID token has expired")
        if not isinstance(iat, int | float) or isinstance(iat, bool) or iat > now + skew \
                or iat < now - MAX_ID_TOKEN_AGE_SECONDS - skew:
            raise OidcError("the ID token was not issued for this sign-in (iat)")
        not_before = claims.get("nbf")
        if isinstance(not_before, int | float) and not isinstance(not_before, bool) and not_before > now + skew:
            raise OidcError("the ID token is not valid yet (nbf)")
        if not same_secret(claims.get("nonce"), nonce):
            raise OidcError("the ID token carries another nonce (it was not issued for this sign-in)")
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            raise OidcError("the ID token names no subject")

    async def userinfo(self, access_token: str, subject: str) -> dict[str, Any]:
        """The userinfo claims of the signed-in user (where the provider puts what the ID
        token leaves out); refused unless they are about the same subject."""
        metadata = await self.metadata()
        if metadata.userinfo_endpoint is None:
            return {}
        claims = await self._json("GET", metadata.userinfo_endpoint, "userinfo endpoint",
                                  headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"})
        if claims.get("sub") != subject:
            raise OidcError("the userinfo answer is about another subject")
        return claims
