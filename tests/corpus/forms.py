"""Forms whose choices are rows: a select of Book rows lists each row's `str()`, which reads its
author (`Book.__str__`)."""

from __future__ import annotations

from django import forms

from tests.corpus.models import Book, Loan


class LoanForm(forms.ModelForm):
    """The book field is made from the model: no line of the form builds its queryset."""

    class Meta:
        model = Loan
        fields = ["book"]  # origin: choices_model_form


class PickBookForm(forms.Form):
    """The book field is declared, with its queryset."""

    book = forms.ModelChoiceField(queryset=Book.objects.order_by("id"))  # origin: choices_declared
