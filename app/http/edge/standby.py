"""A GET whose standby failed under it is read again from the primary, so a standby killed, stalled
past its statement timeout or cancelling a query for a recovery conflict costs the client nothing.

The standby is chosen per GET when it is at the request's version (app/replica.py); a failure on it
after that, mid-read, marks the request (`READ_AGAIN`, by app/api/deps.py) and the standby down.
This middleware then drops the error answer (not yet sent: held here) and runs the request once
more, which reads from the primary. An answer already streaming when the standby fails (a CSV list)
cannot be taken back: it is cut, as it would be by a primary that failed.
"""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

READ_AGAIN = "read_again_on_primary"  # request.state: the standby failed under this GET


class ReadAgainOnPrimary:
    """Runs a GET or HEAD again when its standby failed under it before its answer started."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        dropped: list[Message] = []

        async def unless_failed(message: Message) -> None:
            if dropped or (message["type"] == "http.response.start" and _read_again(scope)):
                dropped.append(message)  # the error answer and its body: not sent
                return
            await send(message)

        await self.app(scope, receive, unless_failed)
        if dropped:
            scope["state"][READ_AGAIN] = False
            await self.app(scope, receive, send)


def _read_again(scope: Scope) -> bool:
    state = scope.get("state")
    return isinstance(state, dict) and bool(state.get(READ_AGAIN))
