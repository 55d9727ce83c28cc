"""DRF serializers of each kind that reads relations per row."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from tests.corpus.models import Author, Book, Enrollment, Loan, Review


class AuthorSerializer(serializers.ModelSerializer[Author]):
    class Meta:
        model = Author
        fields = ["id", "name"]


class NestedBookSerializer(serializers.ModelSerializer[Book]):
    author = AuthorSerializer()  # case: drf_nested

    class Meta:
        model = Book
        fields = ["id", "title", "author"]


class TagIdsBookSerializer(serializers.ModelSerializer[Book]):
    class Meta:
        model = Book
        fields = ["id", "title", "tags"]  # case: drf_m2m


class DottedSourceBookSerializer(serializers.ModelSerializer[Book]):
    publisher = serializers.CharField(source="author.publisher.name")  # case: drf_dotted

    class Meta:
        model = Book
        fields = ["id", "title", "publisher"]


class StringRelatedReviewSerializer(serializers.ModelSerializer[Review]):
    book = serializers.StringRelatedField()  # case: drf_string_related

    class Meta:
        model = Review
        fields = ["id", "rating", "book"]


class MethodFieldBookSerializer(serializers.ModelSerializer[Book]):
    review_count = serializers.SerializerMethodField()

    class Meta:
        model = Book
        fields = ["id", "title", "review_count"]

    def get_review_count(self, obj: Book) -> int:
        return obj.reviews.count()  # case: drf_method_count


class LookupBookSerializer(serializers.ModelSerializer[Book]):
    has_approved = serializers.SerializerMethodField()

    class Meta:
        model = Book
        fields = ["id", "title", "has_approved"]

    def get_has_approved(self, obj: Book) -> Any:
        return Review.objects.filter(book=obj, approved=True).exists()  # case: drf_lookup_exists


class OrderedTagsBookSerializer(serializers.ModelSerializer[Book]):
    tags = serializers.SerializerMethodField()

    class Meta:
        model = Book
        fields = ["id", "title", "tags"]

    def get_tags(self, obj: Book) -> list[str]:
        return [t.name for t in obj.tags.order_by("name")]  # case: drf_method_ordered


class EnrollmentSerializer(serializers.ModelSerializer[Enrollment]):
    student_name = serializers.CharField(source="student.user.first_name")  # case: drf_source_chain

    class Meta:
        model = Enrollment
        fields = ["id", "student_name"]


class Shared(serializers.ModelSerializer[Any]):
    """A project base every serializer renders through (a scoped list's filter, say): one project
    line for the reads of every nested field."""

    def to_representation(self, instance: Any) -> Any:
        return super().to_representation(instance)


class BookTitleSerializer(Shared):
    class Meta:
        model = Book
        fields = ["title"]


class ReviewBookSerializer(Shared):
    book = BookTitleSerializer(read_only=True)  # case: drf_shared_review_book

    class Meta:
        model = Review
        fields = ["rating", "book"]


class LoanBooksSerializer(Shared):
    """Each loan's book, and its review's book: one statement (a Book by id) through two
    relations."""

    book = BookTitleSerializer(read_only=True)  # case: drf_shared_loan_book
    review = ReviewBookSerializer(read_only=True)  # case: drf_shared_review

    class Meta:
        model = Loan
        fields = ["book", "review"]
