"""Sessions join their transaction manager through listeners registered once per factory.

`zope.sqlalchemy.register(session, transaction_manager=...)` adds seven event listeners to
every new session, a tenth of what a results page costs. The same listeners, registered on
the session factory, find each session's manager in its `info`; a session without one (a
script's plain session) is joined to nothing, as before.
"""

from sqlalchemy import event
from zope.sqlalchemy import ZopeTransactionEvents

TRANSACTION = "stackq.transaction_manager"  # session.info: the manager it is joined to

# zope.sqlalchemy's events, and where each finds its session among the event's arguments.
EVENTS = {
    "after_begin": lambda session, transaction, connection: session,
    "after_attach": lambda session, instance: session,
    "after_flush": lambda session, flush_context: session,
    "after_bulk_update": lambda update_context: update_context.session,
    "after_bulk_delete": lambda delete_context: delete_context.session,
    "before_commit": lambda session: session,
    "do_orm_execute": lambda execute_state: execute_state.session,
}


def joining(name, session_of):
    def listener(*args):
        manager = session_of(*args).info.get(TRANSACTION)
        if manager is not None:
            getattr(ZopeTransactionEvents(transaction_manager=manager), name)(*args)

    return listener


def join_transactions(session_factory):
    for name, session_of in EVENTS.items():
        event.listen(session_factory, name, joining(name, session_of))
    return session_factory
