select 7;
