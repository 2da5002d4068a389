//! The value-type parsers every request goes through.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use tessera_domain::{EmailAddress, Password, TaskDescription, TaskTitle, UserName};

fn parsers(c: &mut Criterion) {
    c.bench_function("UserName::parse", |b| {
        b.iter(|| UserName::parse(black_box("  Alice Johnson  ")));
    });
    c.bench_function("EmailAddress::parse", |b| {
        b.iter(|| EmailAddress::parse(black_box(" Alice.Johnson@Example.com ")));
    });
    c.bench_function("Password::parse (common-password lookup)", |b| {
        b.iter(|| Password::parse(black_box("securepassword123")));
    });
    c.bench_function("TaskTitle::parse", |b| {
        b.iter(|| TaskTitle::parse(black_box("  Buy groceries for the week  ")));
    });
    let description = "Milk, eggs, bread. ".repeat(50);
    c.bench_function("TaskDescription::parse (950 characters)", |b| {
        b.iter(|| TaskDescription::parse(black_box(&description)));
    });
}

criterion_group!(benches, parsers);
criterion_main!(benches);
