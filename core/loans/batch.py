"""A unit of work for the loans' money events: locked loans, their positions and schedules held
in memory, every write gathered and done with a few bulk statements at flush().

One money event (a single service call) uses one; the chain indexer shares one across a whole
batch of chain events, in one database transaction, so each loan is locked and read once per
batch instead of once per event. Each event runs inside event(): if it fails, everything it
changed in memory is put back, as a savepoint would, without a savepoint per event.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from core.common.bulk import BULK, copy_insert
from core.ledger.services import LedgerBatch
from core.loans.models import FundingPosition, Installment, Loan, LoanTransition, Repayment

LOAN_FIELDS = ("state", "closed_at", "chain_loan_id", "funding_deadline", "approval_nonce",
               "funded_amount", "repaid_amount", "covered_amount", "distributed_to_lenders",
               "drawn_down_at")
POSITION_FIELDS = ("amount", "claimed", "refunded")
INSTALLMENT_FIELDS = ("paid_at",)
FIELDS = {Loan: LOAN_FIELDS, FundingPosition: POSITION_FIELDS, Installment: INSTALLMENT_FIELDS}


def _values(obj) -> tuple:
    return tuple(getattr(obj, name) for name in FIELDS[type(obj)])


class LoanBatch:
    def __init__(self) -> None:
        self.ledger = LedgerBatch()
        self._loans: dict[int, Loan] = {}
        self._by_chain_id: dict[int, Loan] = {}
        self._chain_ids_looked_up: set[int] = set()
        self._positions: dict[int, list[FundingPosition]] = {}
        self._schedules: dict[int, list[Installment]] = {}
        self._loaded: dict[int, tuple[object, tuple]] = {}  # id(obj) -> (obj, values as read)
        self._new: dict[type, list] = {FundingPosition: [], Installment: [], Repayment: [],
                                       LoanTransition: []}
        self._repayment_refs_in_db: set[str] = set()
        self._repayment_refs_checked: set[str] = set()
        self._undo: list[Callable[[], None]] | None = None
        self._touched: set[int] = set()

    # --- reading and locking ----------------------------------------------------------------

    def _keep(self, obj) -> None:
        self._loaded[id(obj)] = (obj, _values(obj))

    def _cache_loan(self, loan: Loan) -> Loan:
        if loan.pk in self._loans:
            return self._loans[loan.pk]
        self._loans[loan.pk] = loan
        self._keep(loan)
        if loan.chain_loan_id is not None:
            self._by_chain_id[loan.chain_loan_id] = loan
        return loan

    def lock_many(self, *, pks: Iterable[int] = (), chain_ids: Iterable[int] = ()) -> None:
        """Lock and read these loans with their positions and schedules: three queries."""
        pks = set(pks) - set(self._loans)
        chain_ids = set(chain_ids) - self._chain_ids_looked_up
        self._chain_ids_looked_up |= chain_ids
        if not pks and not chain_ids:
            return
        found = [self._cache_loan(loan) for loan in
                 Loan.objects.select_for_update().select_related("borrower")
                 .filter(Q(pk__in=pks) | Q(chain_loan_id__in=chain_ids)).order_by("pk")]
        fresh = [loan.pk for loan in found if loan.pk not in self._positions]
        for pk in fresh:
            self._positions[pk], self._schedules[pk] = [], []
        for position in (FundingPosition.objects.select_for_update(of=("self",))
                         .select_related("lender").filter(loan_id__in=fresh).order_by("pk")):
            position.loan = self._loans[position.loan_id]
            self._keep(position)
            self._positions[position.loan_id].append(position)
        for item in Installment.objects.filter(loan_id__in=fresh).order_by("number"):
            self._keep(item)
            self._schedules[item.loan_id].append(item)

    def lock(self, loan: Loan) -> Loan:
        """The batch's locked copy of this loan (read from the database once)."""
        if loan.pk not in self._loans:
            self.lock_many(pks=[loan.pk])
        locked = self._loans[loan.pk]
        self._remember(locked)
        return locked

    def locked(self, pk: int) -> Loan:
        """The batch's locked copy of the loan with this primary key."""
        if pk not in self._loans:
            self.lock_many(pks=[pk])
        return self.lock(self._loans[pk])

    def loan_by_chain_id(self, chain_loan_id) -> Loan | None:
        if chain_loan_id is None:
            return None
        if chain_loan_id not in self._by_chain_id:
            self.lock_many(chain_ids=[chain_loan_id])
        return self._by_chain_id.get(chain_loan_id)

    def positions(self, loan: Loan) -> list[FundingPosition]:
        """The loan's funding positions in the order they were taken (pk)."""
        self.lock(loan)
        positions = self._positions[loan.pk]
        for position in positions:
            self._remember(position)
        return positions

    def position(self, loan: Loan, lender, *, create: bool = False) -> FundingPosition | None:
        for position in self.positions(loan):
            if position.lender_id == lender.pk:
                return position
        if not create:
            return None
        position = FundingPosition(loan=self._loans[loan.pk], lender=lender)
        self._append(self._positions[loan.pk], position)
        self.add(position)
        return position

    def schedule(self, loan: Loan) -> list[Installment]:
        self.lock(loan)
        items = self._schedules[loan.pk]
        for item in items:
            self._remember(item)
        return items

    def repayment(self, ref: str) -> Repayment | None:
        for repayment in self._new[Repayment]:
            if repayment.ref == ref:
                return repayment
        if ref not in self._repayment_refs_checked:
            self.preload_repayments([ref])
        if ref in self._repayment_refs_in_db:
            return Repayment.objects.get(ref=ref)
        return None

    def preload_repayments(self, refs: Iterable[str]) -> None:
        refs = set(refs) - self._repayment_refs_checked
        self._repayment_refs_checked |= refs
        if refs:
            self._repayment_refs_in_db |= set(
                Repayment.objects.filter(ref__in=refs).values_list("ref", flat=True))

    # --- writing ----------------------------------------------------------------------------

    def add(self, obj) -> None:
        """A new row to insert at flush."""
        self._append(self._new[type(obj)], obj)

    def add_schedule(self, loan: Loan, items: list[Installment]) -> None:
        for item in items:
            self._append(self._schedules[loan.pk], item)
            self.add(item)

    def listed(self, loan: Loan) -> None:
        """The loan got its chain id: later events of the batch find it by that id."""
        self._by_chain_id[loan.chain_loan_id] = loan
        if self._undo is not None:
            self._undo.append(lambda: self._by_chain_id.pop(loan.chain_loan_id, None))

    # --- events and their failure -----------------------------------------------------------

    def _append(self, items: list, obj) -> None:
        items.append(obj)
        if self._undo is not None:
            self._undo.append(lambda: items.remove(obj))

    def _remember(self, obj) -> None:
        """Within an event, note an object's values once so a failure can put them back."""
        if self._undo is None or id(obj) in self._touched:
            return
        self._touched.add(id(obj))
        saved = {name: getattr(obj, name) for name in FIELDS[type(obj)]}
        self._undo.append(lambda: [setattr(obj, k, v) for k, v in saved.items()])

    @contextmanager
    def event(self) -> Iterator[None]:
        """One event: on an exception everything it changed in the batch is taken back."""
        self._undo, self._touched = [], set()
        posted = self.ledger.mark()
        try:
            yield
        except BaseException:
            for undo in reversed(self._undo):
                undo()
            self.ledger.rollback_to(posted)
            raise
        finally:
            self._undo, self._touched = None, set()

    def flush(self) -> None:
        """Write every change and new row; the caller's transaction makes it one."""
        now = timezone.now()
        changed: dict[type, list] = {Loan: [], FundingPosition: [], Installment: []}
        for obj, values in self._loaded.values():
            if obj.pk is not None and _values(obj) != values:
                if hasattr(obj, "updated_at"):
                    obj.updated_at = now
                changed[type(obj)].append(obj)
        for model in (FundingPosition, Installment, Repayment, LoanTransition):
            copy_insert(model, self._new[model])
        for model, objs in changed.items():
            if objs:
                extra = ("updated_at",) if hasattr(objs[0], "updated_at") else ()
                bulk_update(model, objs, [*FIELDS[model], *extra])
        self.ledger.flush()
        for model in self._new:
            for obj in self._new[model]:
                if model in FIELDS:
                    self._keep(obj)
            self._new[model] = []
        for obj, _ in list(self._loaded.values()):
            self._keep(obj)


def bulk_update(model, objs: list, fields: list[str]) -> None:
    """Model.objects.bulk_update, but on PostgreSQL as UPDATE ... FROM (VALUES ...): Django's
    CASE WHEN form compares every row with every other and grows with the square of the rows."""
    if connection.vendor != "postgresql":
        model.objects.bulk_update(objs, fields, batch_size=BULK)
        return
    quote = connection.ops.quote_name
    pk = model._meta.pk
    columns = [pk, *(model._meta.get_field(name) for name in fields)]
    assignments = ", ".join(f"{quote(field.column)} = v.{quote(field.column)}::"
                            f"{field.db_type(connection)}" for field in columns[1:])
    names = ", ".join(quote(field.column) for field in columns)
    row = "(" + ", ".join(["%s"] * len(columns)) + ")"
    with connection.cursor() as cursor:
        for start in range(0, len(objs), BULK):
            chunk = objs[start:start + BULK]
            params = [field.get_db_prep_save(getattr(obj, field.attname), connection)
                      for obj in chunk for field in columns]
            # Names come from the model, values are parameters.
            sql = (f"UPDATE {quote(model._meta.db_table)} AS t SET {assignments} "  # noqa: S608
                   f"FROM (VALUES {', '.join([row] * len(chunk))}) AS v({names}) "
                   f"WHERE t.{quote(pk.column)} = v.{quote(pk.column)}::{pk.db_type(connection)}")
            cursor.execute(sql, params)


@contextmanager
def loan_unit(batch: LoanBatch | None) -> Iterator[LoanBatch]:
    """The batch a money event works in: the caller's (the indexer's, written at its end), or
    a new one written, in its own transaction, when the event is done."""
    if batch is not None:
        yield batch
        return
    with transaction.atomic():
        unit = LoanBatch()
        yield unit
        unit.flush()
